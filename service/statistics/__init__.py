"""Partnership statistics: counts, funding, working days and overdue deadlines per department or municipality."""
