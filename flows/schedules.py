"""The schedules of the scheduled deployments, from eidflow.toml's ``[flows]``: one source.

``eidflow serve`` gives its deployments these schedules; the work pool's deployments of
prefect.yaml get them from ``eidflow schedules apply``. prefect.yaml gives them
``schedules: null``, so that ``prefect deploy`` leaves the schedules of a deployment as
they are (Prefect 3: ``null`` keeps them, a list would replace them with the file's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from eidflow.errors import ConfigError
from flows.config import FlowSettings

if TYPE_CHECKING:
    from prefect.client.schemas.schedules import SCHEDULE_TYPES

INBOX = "watch-inbox/inbox"
DAILY = "reconcile-pending/daily"


def schedules_of(flows: FlowSettings) -> dict[str, SCHEDULE_TYPES]:
    """Each scheduled deployment's schedule: the inbox every ``inbox_interval_seconds`` (or
    on ``inbox_cron``), the daily reconcile on ``reconcile_cron``, in ``timezone``."""
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    tz = flows.timezone
    inbox: SCHEDULE_TYPES = (
        CronSchedule(cron=flows.inbox_cron, timezone=tz)
        if flows.inbox_cron
        else IntervalSchedule(interval=timedelta(seconds=flows.inbox_interval_seconds), timezone=tz)
    )
    return {INBOX: inbox, DAILY: CronSchedule(cron=flows.reconcile_cron, timezone=tz)}


def describe(schedule: SCHEDULE_TYPES) -> str:
    """A schedule as people read it (and as two schedules are compared: an interval's anchor
    is the moment it was made)."""
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    if isinstance(schedule, CronSchedule):
        return f"cron {schedule.cron!r} ({schedule.timezone})"
    if isinstance(schedule, IntervalSchedule):
        return f"every {schedule.interval.total_seconds():g} s ({schedule.timezone})"
    return str(schedule)


@dataclass(frozen=True)
class Change:
    deployment: str
    before: list[str]
    after: str

    @property
    def unchanged(self) -> bool:
        return self.before == [self.after]

    def line(self) -> str:
        if self.unchanged:
            return f"unchanged  {self.deployment}: {self.after}"
        was = ", ".join(self.before) or "no schedule"
        return f"set        {self.deployment}: {self.after} (was {was})"


def apply(flows: FlowSettings, *, dry_run: bool = False) -> list[Change]:
    """Give each scheduled deployment on the Prefect server eidflow.toml's schedule (its
    other schedules go); ``dry_run``: say what would change."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    changes = []
    with get_client(sync_client=True) as client:
        for name, schedule in schedules_of(flows).items():
            try:
                deployment = client.read_deployment_by_name(name)
            except ObjectNotFound:
                raise ConfigError(
                    f"the Prefect server has no deployment {name}.",
                    todo="Deploy prefect.yaml first (prefect deploy --all), then run this again.",
                ) from None
            current = client.read_deployment_schedules(deployment.id)
            change = Change(name, [describe(item.schedule) for item in current], describe(schedule))
            changes.append(change)
            if change.unchanged or dry_run:
                continue
            for item in current:
                client.delete_deployment_schedule(deployment.id, item.id)
            client.create_deployment_schedules(deployment.id, [(schedule, True)])
    return changes
