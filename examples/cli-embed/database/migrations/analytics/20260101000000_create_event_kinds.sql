-- migrate:up
CREATE TABLE event_kinds (name VARCHAR(40) NOT NULL PRIMARY KEY);

-- migrate:down
DROP TABLE event_kinds;
