"""Retention (gallring): the informationshanteringsplan's rules, what is due, the registrar's decision and its execution."""
