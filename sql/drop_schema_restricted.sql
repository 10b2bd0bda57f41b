-- A published warehouse from before the two stores held patient rows in this schema: they
-- move to the restricted store, and the published copy must not keep them.
DROP SCHEMA IF EXISTS restricted CASCADE
