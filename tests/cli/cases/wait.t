# otap wait: usage errors, and a deadline against a port nothing listens on
cp "$EXAMPLE" otap.yaml && otap wait
otap wait --env nowhere
otap wait --env development --timeout forever
otap wait --env development nosuchservice
