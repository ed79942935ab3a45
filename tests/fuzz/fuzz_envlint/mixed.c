char *v = getenv("X");
v = os.Getenv("Y");
k = ENV.fetch("Z");
ENV["W"]
