"""Deadlines: Swedish working-day calendar, due dates, reminders, suspension and extension."""
