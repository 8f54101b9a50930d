"""Diagnosis: what is broken in a deployment, its one cause and its one fix.

Used by `gptbot doctor` (all checks), and by `gptbot serve` / `gptbot setup` at start
(`diagnose_startup`: Stream reachable, credentials accepted). Sits between gptbot.server and
gptbot.web in the layers: it probes Stream, the model, the store and the queue, and the
public URL, but is imported only by the server and the CLI.
"""

from gptbot.diagnosis.graph import Diagnosis, Result
from gptbot.diagnosis.plan import diagnose
from gptbot.diagnosis.render import as_json, render_failures, render_json, render_text
from gptbot.diagnosis.startup import describe_failure, diagnose_startup

__all__ = ["Diagnosis", "Result", "as_json", "describe_failure", "diagnose", "diagnose_startup",
           "render_failures", "render_json", "render_text"]
