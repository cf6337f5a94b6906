// Command argo-peer, built against argo-rollouts v1.10.0 (see ../peer).
package main

import (
	"canarygate/argopeer"
	_ "canarygate/argopeer/eval"
	_ "canarygate/argopeer/grpcpeer"
	_ "canarygate/argopeer/host"
	_ "canarygate/argopeer/reconcile"
	_ "canarygate/argopeer/steprun"
	_ "canarygate/argopeer/version"
)

func main() { argopeer.Main("v1.10.0") }
