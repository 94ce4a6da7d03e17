"""Work overviews shared by the API and the web: what is overdue, whose deadlines are open."""
