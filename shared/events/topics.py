"""Kafka topic names, declared once. Settings.topic() adds the deployment prefix."""

INTAKE_EVENTS = "intake.events"
CASE_EVENTS = "followup.case-events"


def dead_letter(topic: str) -> str:
    return f"{topic}.dead-letter"
