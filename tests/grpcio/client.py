"""A gRPC C-core client (grpcio) against canary-gate's go-plugin gRPC mode.

grpcio sends the percent-encoded socket path as :authority for a unix:
target; the plugin must serve it anyway. Starts the plugin given as argv[1]
with the go-plugin cookie and CANARY_GATE_PROTOCOL=grpc, reads the handshake
line, then calls grpc.health.v1.Health/Check and the MetricProvider's Type
(raw protobuf bytes, so no generated code is needed). Prints one line per
call and PASS, or FAIL: ... with exit status 1.
"""
import os
import subprocess
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(plugin):
    env = dict(os.environ, ARGO_ROLLOUTS_RPC_PLUGIN="metricprovider",
               CANARY_GATE_PROTOCOL="grpc")
    proc = subprocess.Popen([plugin], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        fields = line.split("|")
        if len(fields) < 5 or fields[2] != "unix" or fields[4] != "grpc":
            raise AssertionError("handshake line %r" % line)
        with grpc.insecure_channel("unix:" + fields[3]) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="plugin"), timeout=10)
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(health.status)
            print("health", status)
            if status != "SERVING":
                raise AssertionError("health status " + status)
            type_call = channel.unary_unary(
                "/canarygate.metricprovider.v1.MetricProvider/Type",
                request_serializer=None, response_deserializer=None)
            raw = type_call(b"", timeout=10)
            print("type", raw)
            # TypeResponse{type: "RPCPlugin"}: field 1, length-delimited.
            if raw != b"\x0a\x09RPCPlugin":
                raise AssertionError("TypeResponse bytes %r" % raw)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # report any failure as the test's FAIL line
        print("FAIL: %s: %s" % (type(e).__name__, e))
        sys.exit(1)
    print("PASS")
