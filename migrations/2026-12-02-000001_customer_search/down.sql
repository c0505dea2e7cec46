DROP INDEX IF EXISTS customers_search_trgm;
DROP FUNCTION IF EXISTS customer_search_text(TEXT, TEXT, TEXT, TEXT);
DROP EXTENSION IF EXISTS pg_trgm;
