"""Case message thread between the organisation and officers."""
