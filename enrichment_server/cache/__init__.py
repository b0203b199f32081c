"""Caches behind one interface: in-process (memory.py) and shared Redis (redis.py)."""
