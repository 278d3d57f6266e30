"""Pure domain of the follow-up service: cases, routing, deadlines, visibility."""
