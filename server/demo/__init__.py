"""Demo data for Lianshen: a fictional but realistic set of Fengqing County cases, people and meetings."""
