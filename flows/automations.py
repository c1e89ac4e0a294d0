"""The Prefect automations eidflow's deployments rely on, as code: ``eidflow automations apply``.

A self-hosted Prefect server does not notice a flow run whose process or host died: the run
stays Running and holds its deployment's concurrency slot, so every later inbox run is
cancelled. Prefect's documented answer (docs: "Detect zombie flows") is a proactive
automation on the flow-run heartbeat; eidflow ships it with two more:

- ``eidflow: crash unresponsive runs``: an eidflow run that missed two heartbeats
  (``[flows] heartbeat_seconds``) is set Crashed, which frees its concurrency slot;
- ``eidflow: retry crashed manual runs``: a crashed ``ingest-manifests/manual`` run (tag
  ``eidflow-retry-crashed``) is scheduled again as ``AwaitingRetry``, as the UI's Retry
  button does; the flow itself refuses a run crashed more than ``[flows] crash_retries`` times;
- ``eidflow: notify``: every Failed or Crashed eidflow run is told to the notification block
  ``[flows] notify_block`` (Teams, Slack, e-mail, any webhook).

Automations are matched by name: applying again updates them in place, never duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from eidflow.errors import ConfigError
from flows.runs import RETRIED_BY_AUTOMATION

if TYPE_CHECKING:
    from prefect.automations import Automation

    from flows.config import FlowSettings

TAG = "eidflow"  # every eidflow deployment, hence every run of one
RETRY_TAG = "eidflow-retry-crashed"  # the deployments whose crashed runs are run again
CRASH = "eidflow: crash unresponsive runs"
RETRY = "eidflow: retry crashed manual runs"
NOTIFY = "eidflow: notify"
# The AwaitingRetry state the retry automation sets; flows.runs.crashes_before looks for it.
RETRIED_MESSAGE = f"Crashed; {RETRIED_BY_AUTOMATION} '{RETRY}'."
EVALUATION_SLACK_SECONDS = 10  # the server looks for missing heartbeats every 5 s
TERMINAL_EVENTS = {
    "prefect.flow-run.Completed",
    "prefect.flow-run.Failed",
    "prefect.flow-run.Cancelled",
    "prefect.flow-run.Crashed",
}

NOTIFY_SUBJECT = "eidflow: {{ flow_run.name }} is {{ flow_run.state.name }}"
NOTIFY_BODY = """\
eidflow run {{ flow_run.name }} ({{ flow.name }}) ended {{ flow_run.state.name }}.
{{ flow_run.state.message }}
Tags: {{ flow_run.tags | join(", ") }}
Flow run id: {{ flow_run.id }}
{% if flow_run | ui_url %}Open it: {{ flow_run | ui_url }}{% endif %}"""


@dataclass(frozen=True)
class Change:
    """What applying did (or would do) to one automation."""

    name: str
    action: str  # "create", "update", "unchanged", "delete"

    def line(self) -> str:
        return f"{self.action:<9} {self.name}"


def unresponsive_after(settings: FlowSettings) -> timedelta:
    """How long without a heartbeat before a run counts as crashed: two heartbeats, less the
    server's evaluation interval, so that it is Crashed within two heartbeat periods."""
    return timedelta(seconds=2 * settings.heartbeat_seconds - EVALUATION_SLACK_SECONDS)


def build(settings: FlowSettings, notify_block_id: Any = None) -> list[Automation]:
    """The automations for these settings; the notifier only with a block to send through."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState, SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    flow_runs = ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"})

    def tagged(tag: str) -> Any:
        return [
            ResourceSpecification(
                {"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"}
            )
        ]

    def on_each(tag: str, *events: str) -> Any:
        """Fires once for each event of ``events`` about a flow run tagged ``tag``."""
        return EventTrigger(
            match=flow_runs,
            match_related=tagged(tag),
            expect=set(events),
            for_each={"prefect.resource.id"},
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        )

    automations = [
        Automation(
            name=CRASH,
            description=(
                "An eidflow flow run that sent no heartbeat for two heartbeat periods died with"
                " its process or host: mark it Crashed so its concurrency slot is freed."
            ),
            trigger=EventTrigger(
                match=flow_runs,
                match_related=tagged(TAG),
                after={"prefect.flow-run.heartbeat"},
                expect={"prefect.flow-run.heartbeat", *TERMINAL_EVENTS},
                for_each={"prefect.resource.id"},
                posture=Posture.Proactive,
                threshold=1,
                within=unresponsive_after(settings),
            ),
            actions=[
                ChangeFlowRunState(
                    name="Crashed",
                    force=False,
                    state=StateType.CRASHED,
                    message=(
                        f"No heartbeat for {unresponsive_after(settings).seconds} s: the flow"
                        " run's process or host died. The next eidflow run settles its claims"
                        " from the ledger and the delivery target."
                    ),
                )
            ],
        ),
        Automation(
            name=RETRY,
            description=(
                "A crashed run of a deployment tagged eidflow-retry-crashed (ingest-manifests/"
                "manual) is scheduled again, so the EIDs its crash released are handed off"
                " without a person; the flow refuses runs crashed too often."
            ),
            trigger=on_each(RETRY_TAG, "prefect.flow-run.Crashed"),
            actions=[
                ChangeFlowRunState(
                    state=StateType.SCHEDULED,
                    name="AwaitingRetry",
                    force=False,
                    message=RETRIED_MESSAGE,
                )
            ],
        ),
    ]
    if notify_block_id is not None:
        automations.append(
            Automation(
                name=NOTIFY,
                description="Tell a person of every Failed or Crashed eidflow run.",
                trigger=on_each(TAG, "prefect.flow-run.Failed", "prefect.flow-run.Crashed"),
                actions=[
                    SendNotification(
                        block_document_id=notify_block_id,
                        subject=NOTIFY_SUBJECT,
                        body=NOTIFY_BODY,
                    )
                ],
            )
        )
    return automations


def notify_block_id(reference: str) -> Any:
    """The id of the notification block ``"<block type slug>/<name>"``, checked to exist."""
    from prefect.blocks.core import Block

    if "/" not in reference:
        raise ConfigError(
            f"[flows] notify_block = {reference!r} is not '<block type>/<name>'.",
            todo="For example notify_block = 'ms-teams-webhook/eidflow-alerts'"
            " (prefect block ls lists the blocks).",
        )
    try:
        block: Any = Block.load(reference)
    except ValueError as error:
        raise ConfigError(
            f"[flows] notify_block: no Prefect block {reference!r} ({error}).",
            todo="Create it (docs/team.md: Running it for a team, Notifications) or fix the name.",
        ) from None
    return block._block_document_id


def apply(settings: FlowSettings, *, dry_run: bool = False) -> list[Change]:
    """Create or update eidflow's automations on the Prefect server; remove the notifier
    when no block is configured. Returns what changed (or would)."""
    from prefect.automations import Automation

    check_heartbeats(settings)
    block_id = notify_block_id(settings.notify_block) if settings.notify_block else None
    wanted = {automation.name: automation for automation in build(settings, block_id)}
    existing = {automation.name: automation for automation in _read_all()}
    changes: list[Change] = []
    for name, automation in wanted.items():
        found = existing.get(name)
        if found is None:
            changes.append(Change(name, "create"))
            if not dry_run:
                automation.create()
        elif _body(found) == _body(automation):
            changes.append(Change(name, "unchanged"))
        else:
            changes.append(Change(name, "update"))
            if not dry_run:
                automation.id = found.id
                automation.update()
    if NOTIFY in existing and NOTIFY not in wanted:
        changes.append(Change(NOTIFY, "delete"))
        if not dry_run:
            found_notifier: Any = Automation.read(id=existing[NOTIFY].id)
            found_notifier.delete()
    return changes


def check_heartbeats(settings: FlowSettings) -> None:
    """Refuse when a deployment's runs send heartbeats at another pace than the automation
    expects: with a slower one, every live run would be taken for dead."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterTags

    with get_client(sync_client=True) as client:
        deployments = client.read_deployments(
            deployment_filter=DeploymentFilter(tags=DeploymentFilterTags(all_=[TAG]))
        )
    wrong = []
    for deployment in deployments:
        env = (deployment.job_variables or {}).get("env") or {}
        value = str(env.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "")).strip()
        if value and value != str(settings.heartbeat_seconds):
            wrong.append(f"{deployment.name} ({value} s)")
    if wrong:
        raise ConfigError(
            f"[flows] heartbeat_seconds = {settings.heartbeat_seconds}, but the runs of"
            f" {', '.join(sorted(wrong))} send a heartbeat at another pace"
            " (PREFECT_FLOWS_HEARTBEAT_FREQUENCY in prefect.yaml's job variables): live runs"
            " would be marked Crashed, or dead ones found late.",
            todo="Make the two equal (prefect deploy --all again after editing prefect.yaml),"
            " then run eidflow automations apply again.",
        )


def _read_all() -> list[Any]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return [a for a in client.read_automations() if a.name in (CRASH, RETRY, NOTIFY)]


def _body(automation: Any) -> dict[str, Any]:
    """What defines an automation, for telling whether it needs an update."""
    fields = ("description", "enabled", "trigger", "actions", "actions_on_trigger")
    return automation.model_dump(mode="json", include=set(fields) | {"actions_on_resolve"})
