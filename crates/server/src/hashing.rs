//! Bounded Argon2id hashing (contract §4.1): a fixed pool of hashing threads, one per core, fed
//! by a bounded queue.
//!
//! * At most `workers` hashes run at once, each on a dedicated thread (never on the async
//!   workers, never on an unbounded blocking pool).
//! * A request waiting for a hash holds a place in a queue of `queue` places; with the queue
//!   full, or after `max_wait` in it, the answer is [`DomainError::Busy`] (503 with
//!   `Retry-After: 1`) without hashing. A queued job whose client went away is skipped.
//! * Memory is bounded and given back. Argon2id with the default parameters needs 19 MiB of
//!   blocks per hash. The blocks are allocated here (not inside the argon2 crate) with a
//!   *capacity* above glibc's largest dynamic mmap threshold (32 MiB): such an allocation is
//!   always a mapping of its own and is unmapped when freed, so a flood does not leave
//!   19 MiB chunks behind in per-thread malloc arenas (measured: 4.7 GB kept after 200 failed
//!   logins on tokio's blocking pool). Only the blocks Argon2 uses are touched, so the
//!   resident cost of a hash is its 19 MiB, and nothing stays resident after it
//!   (docs/reliability.md has the figures).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Decimal, Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;
use xclade_domain::error::DomainResult;
use xclade_domain::DomainError;

/// Bytes reserved (not touched) for every block buffer: above glibc's `DEFAULT_MMAP_THRESHOLD_MAX`
/// (32 MiB on 64-bit), see the module documentation.
const BUFFER_RESERVE_BYTES: usize = 33 << 20;

/// Longest salt a stored hash may carry (the PHC format allows 64 bytes).
const MAX_SALT_BYTES: usize = 64;

/// A hashing thread releases its block buffer after this long without work.
const IDLE_RELEASE: Duration = Duration::from_secs(1);

/// The block memory of one hashing thread: kept between hashes while work keeps coming (no
/// page faults per hash), unmapped after [`IDLE_RELEASE`] without work.
#[derive(Default)]
pub struct Blocks(Option<Vec<Block>>);

impl Blocks {
    /// `count` blocks; their content is whatever the last hash left (Argon2 writes every block
    /// before it reads it).
    fn get(&mut self, count: usize) -> &mut [Block] {
        if self.0.as_ref().is_some_and(|buffer| buffer.len() < count) {
            self.0 = None;
        }
        &mut self.0.get_or_insert_with(|| Self::allocate(count))[..count]
    }

    /// A buffer of `count` blocks whose memory is returned to the OS when dropped.
    fn allocate(count: usize) -> Vec<Block> {
        let mut buffer = Vec::with_capacity(count.max(BUFFER_RESERVE_BYTES / Block::SIZE));
        buffer.resize(count, Block::default());
        buffer
    }

    fn release(&mut self) {
        self.0 = None;
    }
}

/// Hashes `secret` with Argon2id and the default parameters into a PHC string.
pub fn hash_now(secret: &str, memory: &mut Blocks) -> Result<String, String> {
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; MAX_SALT_BYTES];
    let raw_salt = salt.decode_b64(&mut salt_bytes).map_err(|e| e.to_string())?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(secret.as_bytes(), raw_salt, &mut out, memory.get(params.block_count()))
        .map_err(|e| e.to_string())?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13 as Decimal),
        params: (&params).try_into().map_err(|e: argon2::password_hash::Error| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(hash.to_string())
}

/// Whether `secret` matches the PHC string `hash` (any Argon2 variant and parameters the string
/// names). A malformed hash matches nothing. The comparison takes constant time.
pub fn verify_now(secret: &str, hash: &str, memory: &mut Blocks) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Ok(algorithm), Ok(params), Some(expected), Some(salt)) =
        (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed), parsed.hash, parsed.salt)
    else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
    let mut salt_bytes = [0u8; MAX_SALT_BYTES];
    let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params.clone()).hash_password_into_with_memory(
        secret.as_bytes(),
        raw_salt,
        &mut out,
        memory.get(params.block_count()),
    );
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

enum Work {
    Hash(String),
    Verify { secret: String, hash: String },
}

enum Outcome {
    Hashed(Result<String, String>),
    Verified(bool),
}

struct Job {
    work: Work,
    queued: Instant,
    reply: oneshot::Sender<Option<Outcome>>,
}

/// The jobs waiting for a hashing thread.
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    capacity: usize,
}

struct QueueState {
    jobs: VecDeque<Job>,
    open: bool,
}

/// The hashing threads and their queue. Dropping the pool stops the threads once the queue is
/// empty.
pub struct HashPool {
    queue: Arc<Queue>,
}

impl HashPool {
    /// Starts `workers` hashing threads (at least 1) behind a queue of `queue` places; a job
    /// that waited longer than `max_wait` is refused.
    pub fn new(workers: usize, queue: usize, max_wait: Duration) -> std::io::Result<HashPool> {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState { jobs: VecDeque::with_capacity(queue), open: true }),
            ready: Condvar::new(),
            capacity: queue,
        });
        let pool = HashPool { queue };
        for n in 0..workers.max(1) {
            let queue = pool.queue.clone();
            std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || work(&queue, max_wait))?;
        }
        Ok(pool)
    }

    async fn run(&self, work: Work) -> DomainResult<Outcome> {
        let (reply, answer) = oneshot::channel();
        {
            let mut state =
                self.queue.state.lock().map_err(|_| DomainError::internal("the hashing queue is poisoned"))?;
            if state.jobs.len() >= self.queue.capacity {
                return Err(DomainError::Busy);
            }
            state.jobs.push_back(Job { work, queued: Instant::now(), reply });
        }
        self.queue.ready.notify_one();
        match answer.await {
            Ok(Some(outcome)) => Ok(outcome),
            Ok(None) => Err(DomainError::Busy),
            Err(_) => Err(DomainError::internal("a hashing thread stopped")),
        }
    }

    /// Hashes `secret` on a hashing thread.
    pub async fn hash(&self, secret: &str) -> DomainResult<String> {
        match self.run(Work::Hash(secret.to_owned())).await? {
            Outcome::Hashed(hashed) => hashed.map_err(|e| DomainError::internal(format!("hashing failed: {e}"))),
            Outcome::Verified(_) => Err(DomainError::internal("a hashing thread answered another question")),
        }
    }

    /// Verifies `secret` against `hash` on a hashing thread.
    pub async fn verify(&self, secret: &str, hash: &str) -> DomainResult<bool> {
        match self.run(Work::Verify { secret: secret.to_owned(), hash: hash.to_owned() }).await? {
            Outcome::Verified(ok) => Ok(ok),
            Outcome::Hashed(_) => Err(DomainError::internal("a hashing thread answered another question")),
        }
    }
}

impl Drop for HashPool {
    fn drop(&mut self) {
        if let Ok(mut state) = self.queue.state.lock() {
            state.open = false;
        }
        self.queue.ready.notify_all();
    }
}

/// The next job, or `None` when the pool was dropped and the queue is empty. Waiting longer
/// than [`IDLE_RELEASE`] releases the thread's block memory.
fn next_job(queue: &Queue, memory: &mut Blocks) -> Option<Job> {
    let mut state = queue.state.lock().ok()?;
    loop {
        if let Some(job) = state.jobs.pop_front() {
            return Some(job);
        }
        if !state.open {
            return None;
        }
        let (next, waited) = queue.ready.wait_timeout(state, IDLE_RELEASE).ok()?;
        state = next;
        if waited.timed_out() {
            memory.release();
        }
    }
}

/// A hashing thread: takes jobs until the pool is dropped.
fn work(queue: &Queue, max_wait: Duration) {
    let mut memory = Blocks::default();
    while let Some(job) = next_job(queue, &mut memory) {
        if job.reply.is_closed() {
            continue; // the request is gone (client disconnected, timed out)
        }
        if job.queued.elapsed() > max_wait {
            let _ = job.reply.send(None);
            continue;
        }
        let outcome = match job.work {
            Work::Hash(secret) => Outcome::Hashed(hash_now(&secret, &mut memory)),
            Work::Verify { secret, hash } => Outcome::Verified(verify_now(&secret, &hash, &mut memory)),
        };
        let _ = job.reply.send(Some(outcome));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[test]
    fn hashes_are_standard_argon2id_phc_strings() {
        let memory = &mut Blocks::default();
        let hash = hash_now("s3cret-pass", memory).expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        // The argon2 crate's own verifier accepts it, and ours accepts the crate's hashes.
        let parsed = PasswordHash::new(&hash).expect("phc");
        assert!(Argon2::default().verify_password(b"s3cret-pass", &parsed).is_ok());
        assert!(verify_now("s3cret-pass", &hash, memory));
        assert!(!verify_now("s3cret-pasS", &hash, memory));
        assert!(!verify_now("s3cret-pass", "not a hash", memory));
        assert!(!verify_now("s3cret-pass", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$", memory));
    }

    #[test]
    fn verifies_hashes_of_other_parameters() {
        use argon2::password_hash::PasswordHasher as _;
        let params = Params::new(8 * 1024, 1, 1, None).expect("params");
        let salt = SaltString::generate(&mut OsRng);
        let hash = Argon2::new(Algorithm::Argon2i, Version::V0x13, params)
            .hash_password(b"pw", &salt)
            .expect("hash")
            .to_string();
        // A smaller hash after a larger one reuses the buffer; a larger one after it grows it.
        let memory = &mut Blocks::default();
        assert!(!verify_now("pv", &hash_now("pw", memory).expect("hash"), memory));
        assert!(verify_now("pw", &hash, memory));
        assert!(!verify_now("pv", &hash, memory));
        let mut fresh = Blocks::default();
        assert!(verify_now("pw", &hash, &mut fresh));
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        // One worker, one queue place, a long wait allowed: the third concurrent job is refused.
        let pool = Arc::new(HashPool::new(1, 1, Duration::from_secs(60)).expect("pool"));
        let hash = hash_now("pw", &mut Blocks::default()).expect("hash");
        let running: Vec<_> = (0..8)
            .map(|_| {
                let (pool, hash) = (pool.clone(), hash.clone());
                tokio::spawn(async move { pool.verify("pw", &hash).await })
            })
            .collect();
        let mut ok = 0;
        let mut busy = 0;
        for r in running {
            match r.await.expect("task") {
                Ok(true) => ok += 1,
                Err(DomainError::Busy) => busy += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        // One job hashing and one queued at most: every job sent in the same instant beyond
        // those two is refused.
        assert!((1..=2).contains(&ok), "ok {ok}, busy {busy}");
        assert_eq!(ok + busy, 8);
    }

    #[tokio::test]
    async fn a_job_that_waited_too_long_is_refused_without_hashing() {
        let pool = Arc::new(HashPool::new(1, 16, Duration::ZERO).expect("pool"));
        let hash = hash_now("pw", &mut Blocks::default()).expect("hash");
        let (a, b) = tokio::join!(pool.verify("pw", &hash), pool.verify("pw", &hash));
        // The first may be picked up within the zero wait or not; the second always waited
        // behind a whole hash.
        assert!(matches!(b, Err(DomainError::Busy)) || matches!(a, Err(DomainError::Busy)), "{a:?} {b:?}");
    }
}
