//! One id type per table, so ids of different resources cannot be mixed up.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Parses the textual form of the id; `None` when it is not a UUID.
            pub fn parse(s: &str) -> Option<Self> {
                Uuid::try_parse(s).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A project (tenant).
    ProjectId
);
id_type!(
    /// A customer.
    CustomerId
);
id_type!(
    /// A customer's address.
    AddressId
);
id_type!(
    /// A customer group.
    GroupId
);
id_type!(
    /// A custom type.
    TypeId
);
id_type!(
    /// An admin user.
    AdminUserId
);
id_type!(
    /// The row id of an API client (not its public `client_id`).
    ApiClientRowId
);
