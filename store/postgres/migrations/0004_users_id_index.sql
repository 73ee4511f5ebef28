-- Kept in step with store/sqlite's 0004_users_id_index.sql. PostgreSQL's
-- primary key index already serves ID-ordered pages; this migration only
-- keeps the two backends' versions aligned.
SELECT 1;
