#!/usr/bin/env bash
# Start the local services the integration tests need, if they are not running:
# Redis on 127.0.0.1:6379 (no persistence) and PostgreSQL on 127.0.0.1:5432 (trust auth,
# database "test"). Installs them with apt only when missing (they are on this
# project's machines). Idempotent.
set -euo pipefail

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server missing: installing it with apt"
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi
if redis_up; then
    echo "redis: already running on 127.0.0.1:6379"
else
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 50); do redis_up && break; sleep 0.1; done
    redis_up && echo "redis: started on 127.0.0.1:6379" || { echo "redis did not start"; exit 1; }
fi

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "PostgreSQL missing: installing it with apt"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if pg_up; then
    echo "postgres: already running on 127.0.0.1:5432"
else
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 50); do pg_up && break; sleep 0.2; done
    pg_up && echo "postgres: started on 127.0.0.1:5432" || { echo "postgres did not start"; exit 1; }
fi
