"""Running track on a schedule (APScheduler) and posting run summaries."""
