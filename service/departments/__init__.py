"""Departments (förvaltning/nämnd) with their diarie prefix."""
