-- migrate:up
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL);

-- migrate:down
DROP TABLE users;
