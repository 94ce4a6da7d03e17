"""Follow-up reports submitted by the organisation and assessed by the officer."""
