-- docker-compose: one database per service on the shared server.
CREATE DATABASE intake;
CREATE DATABASE followup;
