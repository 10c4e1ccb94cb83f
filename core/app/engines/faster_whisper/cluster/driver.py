"""The worker as a Ray driver: each engine request goes to a Ray actor on a cluster node.

The runner still talks to one local worker process over stdio; in cluster mode that process connects
to the cluster (ray.init on a node of it: the runner's machine joins with `ray start --num-cpus 0`)
and relays each request to an actor (actor.py) that holds a warm model. What the runner sees is the
local protocol, message for message:

- A node or actor that dies mid-request is replaced and the request runs again on another actor,
  at most MAX_ATTEMPTS times; then it fails as worker_crashed, naming the nodes that died. Messages
  already relayed are not sent twice: model and info once, progress only forward, and the segments
  held back until done (the runner only collects them until then).
- Cancel: the runner kills this process, as it kills a local worker. Ray's ray.cancel only flags a
  running task of a sync actor (it cannot stop CTranslate2 mid-decode), so on SIGTERM the actor is
  killed (ray.kill) before this process exits; the runner's replacement worker starts a fresh actor
  and loads the model into it, as it does locally (spec §4, the engine process).
- A cluster that cannot be reached answers each request with cluster_unavailable; the runner puts
  its task back in the queue and stops (spec §4, faults), and this process connects again on the
  next request.
"""

import logging
import os
import signal
import socket

from cluster import media as shipped

log = logging.getLogger("sophia.cluster")

# The worker's folder, shipped to the nodes as the actors' working_dir (on their sys.path): the
# nodes need only Python, faster-whisper and Ray installed (docs: the node image).
FASTER_WHISPER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME_ENV = {"working_dir": FASTER_WHISPER_DIR, "excludes": ["*.ts", "*.js", "*.map", "*.txt", "__pycache__/"]}
# One request of a node that died, run again on another actor, twice at most.
MAX_ATTEMPTS = 3
# Each actor is one lane of one CTranslate2 thread (lanes.py): a node runs as many at once as it has CPUs.
ACTOR_CPUS = 1
CONNECT_TIMEOUT_SEC = 5.0
# An actor waits this long for a node with room for it (and loads its modules) before the task goes
# back to the queue: a cluster whose nodes are all busy with other work, or gone.
ACTOR_START_TIMEOUT_SEC = 120.0
# Settings the actor's worker modules read, passed on from this process (the runner set them for it).
FORWARDED_SETTINGS = ("SOPHIA_MODELS_DIR", "SOPHIA_ALLOW_MODEL_DOWNLOAD", "SOPHIA_ASR_PIECE_SEC", "SOPHIA_ASR_UNHEAR", "HF_HUB_OFFLINE")


class ClusterDriver:
    """Serves the worker's requests through actors of the cluster at `address` ("auto", or host:port of its head)."""

    def __init__(self, address, shared_paths, error_type):
        self.address = address
        self.shared_paths = shared_paths
        self.error_type = error_type  # the worker's WorkerError: a failure with a protocol code
        self.actor = None
        self.actor_key = None
        self.actor_node = None

    def handlers(self):
        """The worker's request handlers, by request type, in cluster mode."""
        return {"transcribe": self.forward, "align": self.forward, "load": self.forward}

    def forward(self, channel, _cache, request):
        ray = self.connected()
        media_ref = self.ship(request.get("media"))
        relay = Relay(channel, request["type"])
        died = []  # (node id, description) of each node whose actor died
        try:
            for _ in range(MAX_ATTEMPTS):
                actor, node = self.actor_for(request.get("model"), request["options"], avoid=[node_id for node_id, _ in died])
                try:
                    for ref in actor.run.remote(request, media_ref):
                        relay.forward(ray.get(ref))
                    if not relay.finished:
                        raise self.error_type("internal", f"the actor on {node['name']} ended the request without an answer")
                    return
                except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as error:
                    log.warning("the actor on %s died during request %s: %s", node["name"], request["id"], str(error).splitlines()[0])
                    died.append((node["node_id"], node["name"]))
                    self.drop_actor()
                    relay.again()
        except ray.exceptions.RaySystemError as error:
            self.drop_actor()
            raise self.error_type("cluster_unavailable", f"lost the Ray cluster at {self.address}: {error}")
        finally:
            del media_ref  # the object store frees the media once no reference is left
        raise self.error_type("worker_crashed", f"the request failed {MAX_ATTEMPTS} times, each time because the node or actor running it died: {'; '.join(name for _, name in died)}")

    def connected(self):
        import ray

        if not ray.is_initialized():
            reachable(self.address, self.error_type)
            try:
                ray.init(address=self.address, namespace="sophia", runtime_env=RUNTIME_ENV, logging_level=logging.WARNING, configure_logging=False)
            except Exception as error:  # ConnectionError, or a RuntimeError when no node of the cluster runs here
                raise self.error_type("cluster_unavailable", f"cannot reach the Ray cluster at {self.address}: {error}")
            # After ray.init, which installs a SIGTERM handler of its own.
            signal.signal(signal.SIGTERM, self.on_terminate)
        return ray

    def ship(self, path):
        if path is None or shipped.is_shared(path, self.shared_paths):
            return None
        try:
            return shipped.put_media(path)
        except OSError as error:
            raise self.error_type("media_unreadable", f"cannot read media {path}: {error.strerror or error}")

    def actor_for(self, model, options, avoid=()):
        """The actor for these options, started on a node with room for it if it is not running yet,
        and not on a node in avoid (ids of nodes that died under this request: until the cluster marks
        them dead, which takes tens of seconds, Ray would still place an actor there)."""
        import ray

        from cluster.actor import WhisperActor

        key = (model, options.get("device"), options.get("compute_type"))
        if key != self.actor_key:
            self.drop_actor()
            gpus = 1 if options.get("device") == "cuda" else 0
            settings = {name: os.environ[name] for name in FORWARDED_SETTINGS if name in os.environ}
            settings["SOPHIA_ASR_LANES"] = str(ACTOR_CPUS)
            placement = {"label_selector": {"ray.io/node-id": f"!in({','.join(avoid)})"}} if avoid else {}
            log.info("starting an actor for %s (%s, %s)%s", model, options.get("device"), options.get("compute_type"), f", not on {', '.join(avoid)}" if avoid else "")
            actor = ray.remote(WhisperActor).options(num_cpus=ACTOR_CPUS, num_gpus=gpus, max_restarts=0, **placement).remote(settings)
            try:
                node = ray.get(actor.node.remote(), timeout=ACTOR_START_TIMEOUT_SEC)
            except ray.exceptions.GetTimeoutError:
                ray.kill(actor)
                raise self.error_type("cluster_unavailable", f"no node of the Ray cluster at {self.address} took the engine's actor within {ACTOR_START_TIMEOUT_SEC:.0f} s ({ACTOR_CPUS} CPU{', 1 GPU' if gpus else ''} free, not on a node that failed)")
            except ray.exceptions.RayActorError as error:
                raise self.error_type("engine_unavailable", f"the engine's actor could not start on the cluster: {error}")
            log.info("the actor runs on %s", node["name"])
            self.actor, self.actor_key, self.actor_node = actor, key, node
        return self.actor, self.actor_node

    def drop_actor(self):
        if self.actor is not None:
            import ray

            try:
                ray.kill(self.actor)
            except Exception:  # already dead with its node
                pass
        self.actor, self.actor_key, self.actor_node = None, None, None

    def on_terminate(self, _signum, _frame):
        # The runner's cancel: the actor stops now, not when Ray notices that its owner is gone.
        try:
            self.drop_actor()
        finally:
            os._exit(0)


# The message that answers each kind of request (an error answers any).
LAST_MESSAGE = {"transcribe": "done", "align": "aligned", "load": "model"}


def reachable(address, error_type):
    """Fails fast, with cluster_unavailable, when nothing answers at the head's address: ray.init
    itself waits minutes for a GCS that is not there (spec §4: 2 min measured with Ray 2.60)."""
    from ray._private import services

    try:
        bootstrap = services.canonicalize_bootstrap_address(address)
    except ValueError as error:
        raise error_type("cluster_unavailable", f'"{address}" is not a Ray cluster address (host:port of its head, or auto): {error}')
    if bootstrap is None:
        raise error_type("cluster_unavailable", f'no Ray cluster runs on this machine ("{address}" finds none): join it with `ray start --address <head>:6379 --num-cpus 0`')
    host, _, port = bootstrap.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_SEC).close()
    except (OSError, ValueError) as error:
        raise error_type("cluster_unavailable", f"cannot reach the Ray cluster at {address} ({bootstrap}): {error}")


class Relay:
    """Forwards an actor's messages to the runner, sending nothing twice across the attempts of one request."""

    def __init__(self, channel, request_type):
        self.channel = channel
        self.last = LAST_MESSAGE[request_type]
        self.sent = set()
        self.position = float("-inf")
        self.segments = []
        self.finished = False

    def again(self):
        """The request runs again from the start: the segments of the attempt that died are dropped."""
        self.segments = []

    def forward(self, message):
        kind = message["type"]
        if kind in ("model", "info"):
            if kind in self.sent:
                return
            self.sent.add(kind)
        elif kind == "progress":
            if message["position"] <= self.position:
                return
            self.position = message["position"]
        elif kind == "segment":
            self.segments.append(message)
            return
        elif kind == "done":
            for segment in self.segments:
                self.channel.send(segment)
        self.channel.send(message)
        self.finished = kind in (self.last, "error")
