"""Reports: Allure metadata and HTML, the SLO page, history and baselines."""
