"""AWS CLI plugin: adds the x-airlock-reason header (from $AIRLOCK_REASON) before signing.

aws configure set plugins.cli_legacy_plugin_path /path/to/examples/aws-cli-plugin
aws configure set plugins.airlock_reason airlock_reason
"""
import os
from urllib.parse import quote


def _add_reason(request, **kwargs):
    reason = os.environ.get("AIRLOCK_REASON")
    if reason:
        request.headers["x-airlock-reason"] = quote(reason, safe="")


def awscli_initialize(cli):
    cli.register("before-sign", _add_reason)
