"""One screen per file: zoo, data, train, runs, evaluate, predict."""
