"""The merchant gateway (`aistm7 gateway run`): a REST API over the program
for the services that sell access and charge fees, with API keys, rate
limits and idempotent charges. Stateless apart from its database (SQLite
embedded, PostgreSQL shared by several processes)."""
