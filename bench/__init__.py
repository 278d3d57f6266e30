"""Benchmark harness: each pipeline figure beside the ceiling of the part under it.

python -m bench --size tiny|small|full [--only relay,consumer,...] [--out DIR]

Needs DATABASE_ADMIN_URL, KAFKA_BOOTSTRAP_SERVERS and REDIS_URL (scripts/bench.sh
starts the stack on free ports and sets them). See bench/README.md.
"""
