from django.db import models


class JobHeartbeat(models.Model):
    """When a periodic job last ran: proof that the worker and the beat scheduler are alive.

    One row per job name, overwritten in place, so it never grows.
    """

    name = models.CharField(max_length=100, unique=True)
    last_ran_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} @ {self.last_ran_at:%Y-%m-%d %H:%M:%S}"
