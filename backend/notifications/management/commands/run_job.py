from django.core.management.base import BaseCommand, CommandError

from backend.notifications import scheduler
from backend.notifications.errors import JobBusy, UnknownJob


class Command(BaseCommand):
    help = "Run one periodic job now, by name, under the same lease the scheduler uses (--list lists them)."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help='e.g. "notifications.deliver_due"')
        parser.add_argument(
            "--list", action="store_true", dest="list_jobs", help="List the registered jobs and exit."
        )

    def handle(self, *args, name=None, list_jobs=False, **options):
        jobs = scheduler.discover_jobs()
        if list_jobs or not name:
            for job in sorted(jobs.values(), key=lambda j: j.name):
                self.stdout.write(f"{job.name}\tevery {int(job.every.total_seconds())} s")
            if not name and not list_jobs:
                raise CommandError("Name a job to run (see the list above).")
            return
        try:
            outcome = scheduler.run_job(name=name, jobs=jobs)
        except UnknownJob as exc:
            raise CommandError(f"Unknown job {name!r}. Known: {', '.join(sorted(jobs))}") from exc
        except JobBusy as exc:
            raise CommandError(f"Job {name!r} is running in another process; try again later.") from exc
        if not outcome.ok:
            raise CommandError(f"Job {name} failed: {outcome.error}")
        self.stdout.write(self.style.SUCCESS(f"{name}: {outcome.result}"))
