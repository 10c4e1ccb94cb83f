"""The faster_whisper engine on a Ray cluster (spec §4, the engine on a cluster).

The worker process the runner starts stays the runner's one engine process; given a cluster address
it becomes a Ray driver (driver.py) that forwards each request to a Ray actor on a cluster node
(actor.py), which runs it with the worker's own code and streams the same protocol messages back.
Media travel through Ray's object store unless the nodes see the runner's path (media.py).
Ray is imported only here and only in cluster mode: the default install does not have it.
"""
