"""Every business rule, once. Views, links, the console, the API and jobs all call these."""
