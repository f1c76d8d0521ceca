"""Draw every lottery class whose registration has closed (courses.lottery); run it from a timer,
every few minutes. Classes already drawn are left as they are, so running it again is safe."""

from django.core.management.base import BaseCommand

from courses import lottery
from portal import audit


class Command(BaseCommand):
    help = "Draw the seats of every lottery class whose registration has closed."

    @audit.command_context("draw_lots")
    def handle(self, *args, **options):
        made = lottery.draw_due()
        for draw in made:
            self.stdout.write(
                f"{draw.course_class}: {len(draw.applications)} applications, "
                f"{draw.seats} seats given out, seed {draw.seed}"
            )
        self.stdout.write(f"{len(made)} classes drawn.")
