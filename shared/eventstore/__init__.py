"""Event store, outbox relay and offset-tracking consumer (SQLAlchemy + kafka-python)."""
