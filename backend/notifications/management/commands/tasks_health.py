from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Health check of the background-task queue: fails when a task has been due for longer than "
        "--max-lag seconds (no worker is taking tasks), or the database does not answer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--max-lag", type=int, default=300)

    def handle(self, *args, max_lag=300, **options):
        from django_tasks_db.models import DBTaskResult, get_date_max

        ready = DBTaskResult.objects.ready()
        dues = []
        immediate = ready.filter(run_after=get_date_max()).order_by("enqueued_at").first()
        if immediate is not None:
            dues.append(immediate.enqueued_at)
        deferred = ready.exclude(run_after=get_date_max()).order_by("run_after").first()
        if deferred is not None:
            dues.append(deferred.run_after)
        if not dues:
            self.stdout.write("ok: no task waiting")
            return
        lag = timezone.now() - min(dues)
        if lag > timedelta(seconds=max_lag):
            raise CommandError(f"the oldest ready task has waited {int(lag.total_seconds())} s")
        self.stdout.write(f"ok: the oldest ready task has waited {max(0, int(lag.total_seconds()))} s")
