#!/usr/bin/python3
"""An independent gRPC client (Debian's python3-grpcio, C core) for interoperability tests.

Usage: grpc_interop.py TARGET health [SERVICE]     -> {"status": "SERVING"}
       grpc_interop.py TARGET reflection           -> {"services": [...], "methods": {svc: [...]}}
Options (after TARGET): --ca FILE [--cert FILE --key FILE] [--server-name NAME] for TLS.
Message classes are built from descriptors at run time: Debian ships no health/reflection stubs.
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def _file(name, package, messages, enums=()):
    fd = descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto3")
    for ename, values in enums:
        e = fd.enum_type.add(name=ename)
        for vname, number in values:
            e.value.add(name=vname, number=number)
    for mname, fields in messages:
        m = fd.message_type.add(name=mname)
        oneof_index = {}
        for fname, number, ftype, label, type_name, oneof in fields:
            f = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = type_name
            if oneof:
                if oneof not in oneof_index:
                    oneof_index[oneof] = len(m.oneof_decl)
                    m.oneof_decl.add(name=oneof)
                f.oneof_index = oneof_index[oneof]
    return fd


OPT, REP = F.LABEL_OPTIONAL, F.LABEL_REPEATED
pool = descriptor_pool.DescriptorPool()
pool.Add(_file("health.proto", "grpc.health.v1", [
    ("HealthCheckRequest", [("service", 1, F.TYPE_STRING, OPT, None, None)]),
    ("HealthCheckResponse", [("status", 1, F.TYPE_ENUM, OPT, ".grpc.health.v1.ServingStatus", None)]),
], enums=[("ServingStatus", [("UNKNOWN", 0), ("SERVING", 1), ("NOT_SERVING", 2), ("SERVICE_UNKNOWN", 3)])]))
pool.Add(_file("reflection.proto", "grpc.reflection.v1", [
    ("ServerReflectionRequest", [
        ("host", 1, F.TYPE_STRING, OPT, None, None),
        ("file_containing_symbol", 4, F.TYPE_STRING, OPT, None, "message_request"),
        ("list_services", 7, F.TYPE_STRING, OPT, None, "message_request"),
    ]),
    ("FileDescriptorResponse", [("file_descriptor_proto", 1, F.TYPE_BYTES, REP, None, None)]),
    ("ServiceResponse", [("name", 1, F.TYPE_STRING, OPT, None, None)]),
    ("ListServiceResponse", [("service", 1, F.TYPE_MESSAGE, REP, ".grpc.reflection.v1.ServiceResponse", None)]),
    ("ErrorResponse", [("error_code", 1, F.TYPE_INT32, OPT, None, None), ("error_message", 2, F.TYPE_STRING, OPT, None, None)]),
    ("ServerReflectionResponse", [
        ("valid_host", 1, F.TYPE_STRING, OPT, None, None),
        ("file_descriptor_response", 4, F.TYPE_MESSAGE, OPT, ".grpc.reflection.v1.FileDescriptorResponse", "message_response"),
        ("list_services_response", 6, F.TYPE_MESSAGE, OPT, ".grpc.reflection.v1.ListServiceResponse", "message_response"),
        ("error_response", 7, F.TYPE_MESSAGE, OPT, ".grpc.reflection.v1.ErrorResponse", "message_response"),
    ]),
]))


def cls(name):
    return message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName(name))


def channel(target, opts):
    if "--ca" not in opts:
        return grpc.insecure_channel(target)
    get = lambda k: open(opts[opts.index(k) + 1], "rb").read() if k in opts else None
    creds = grpc.ssl_channel_credentials(root_certificates=get("--ca"), private_key=get("--key"), certificate_chain=get("--cert"))
    options = []
    if "--server-name" in opts:
        options.append(("grpc.ssl_target_name_override", opts[opts.index("--server-name") + 1]))
    return grpc.secure_channel(target, creds, options)


def health(ch, service):
    req_cls, res_cls = cls("grpc.health.v1.HealthCheckRequest"), cls("grpc.health.v1.HealthCheckResponse")
    call = ch.unary_unary("/grpc.health.v1.Health/Check", request_serializer=req_cls.SerializeToString, response_deserializer=res_cls.FromString)
    res = call(req_cls(service=service), timeout=10)
    return {"status": pool.FindEnumTypeByName("grpc.health.v1.ServingStatus").values_by_number[res.status].name}


def reflection(ch):
    req_cls, res_cls = cls("grpc.reflection.v1.ServerReflectionRequest"), cls("grpc.reflection.v1.ServerReflectionResponse")
    call = ch.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", request_serializer=req_cls.SerializeToString, response_deserializer=res_cls.FromString)
    (listing,) = list(call(iter([req_cls(list_services="")]), timeout=10))
    services = sorted(s.name for s in listing.list_services_response.service)
    methods = {}
    for svc in services:
        if svc.startswith("grpc."):
            continue
        (res,) = list(call(iter([req_cls(file_containing_symbol=svc)]), timeout=10))
        if res.HasField("error_response"):
            raise SystemExit(f"reflection error for {svc}: {res.error_response.error_message}")
        for raw in res.file_descriptor_response.file_descriptor_proto:
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
            for s in fd.service:
                full = f"{fd.package}.{s.name}" if fd.package else s.name
                if full == svc:
                    methods[svc] = [m.name for m in s.method]
    return {"services": services, "methods": methods}


def main(argv):
    target, mode, rest = argv[1], argv[2], argv[3:]
    ch = channel(target, rest)
    positional = [a for i, a in enumerate(rest) if not a.startswith("--") and (i == 0 or not rest[i - 1].startswith("--"))]
    try:
        out = health(ch, positional[0] if positional else "") if mode == "health" else reflection(ch)
    except grpc.RpcError as err:
        print(json.dumps({"error": err.code().name, "details": err.details()}))
        return 3
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
