package grpcpeer

// The client side of proto/ without generated code: the .proto files are
// compiled when the peer starts, by bufbuild/protocompile (a pure-Go
// compiler, independent of the protox compiler that builds the plugin's
// side), and messages are dynamicpb values sent with grpc.ClientConn.Invoke.
// So the client always speaks the contract as it is in the repository, and
// a method, field or enum value the scenarios name that proto/ lacks is a
// clear failure (contractError), not a stale stub.

import (
	"context"
	"fmt"
	"time"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// protoFiles are the files of proto/ (see proto/README.md).
var protoFiles = []string{
	"canarygate/metricprovider/v1/metricprovider.proto",
	"plugin/grpc_controller.proto",
	"plugin/grpc_stdio.proto",
	"plugin/grpc_broker.proto",
}

// Full method names the scenarios call.
const (
	mpService      = "canarygate.metricprovider.v1.MetricProvider"
	mInitPlugin    = mpService + "/InitPlugin"
	mRun           = mpService + "/Run"
	mResume        = mpService + "/Resume"
	mTerminate     = mpService + "/Terminate"
	mGC            = mpService + "/GarbageCollect"
	mType          = mpService + "/Type"
	mGetMetadata   = mpService + "/GetMetadata"
	mShutdown      = "plugin.GRPCController/Shutdown"
	mStreamStdio   = "plugin.GRPCStdio/StreamStdio"
	mStartStream   = "plugin.GRPCBroker/StartStream"
	measurementMsg = "canarygate.metricprovider.v1.Measurement"
)

// contractError is a name the scenarios use that proto/ does not define.
// It is raised with panic and turned into the peer's FAIL line by run.
type contractError string

func (e contractError) Error() string { return "proto/ contract: " + string(e) }

type contract struct{ res linker.Resolver }

// loadContract compiles the files of proto/ under dir.
func loadContract(dir string) (*contract, error) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(
		&protocompile.SourceResolver{ImportPaths: []string{dir}})}
	files, err := c.Compile(context.Background(), protoFiles...)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", dir, err)
	}
	return &contract{res: files.AsResolver()}, nil
}

// method finds "pkg.Service/Method".
func (c *contract) method(full string) protoreflect.MethodDescriptor {
	for i := len(full) - 1; i > 0; i-- {
		if full[i] != '/' {
			continue
		}
		d, err := c.res.FindDescriptorByName(protoreflect.FullName(full[:i]))
		if sd, ok := d.(protoreflect.ServiceDescriptor); err == nil && ok {
			if md := sd.Methods().ByName(protoreflect.Name(full[i+1:])); md != nil {
				return md
			}
		}
		break
	}
	panic(contractError("no method " + full))
}

// message builds a message of the named type from field/value pairs (see set).
func (c *contract) message(name string, fields ...any) *dynamicpb.Message {
	d, err := c.res.FindMessageByName(protoreflect.FullName(name))
	if err != nil {
		panic(contractError("no message " + name))
	}
	return build(d.Descriptor(), fields)
}

// invoke makes a unary call of method with its request built from fields.
func (c *contract) invoke(ctx context.Context, conn *grpc.ClientConn, method string, fields ...any) (*dynamicpb.Message, error) {
	md := c.method(method)
	resp := dynamicpb.NewMessage(md.Output())
	err := conn.Invoke(ctx, "/"+method, build(md.Input(), fields), resp)
	return resp, err
}

// stream opens a server- or bidi-streaming call of method.
func (c *contract) stream(ctx context.Context, conn *grpc.ClientConn, method string) (grpc.ClientStream, protoreflect.MethodDescriptor, error) {
	md := c.method(method)
	desc := &grpc.StreamDesc{StreamName: string(md.Name()), ServerStreams: md.IsStreamingServer(),
		ClientStreams: md.IsStreamingClient()}
	st, err := conn.NewStream(ctx, desc, "/"+method)
	return st, md, err
}

// fields is a nested message given as field/value pairs.
type fields []any

func build(d protoreflect.MessageDescriptor, kv []any) *dynamicpb.Message {
	m := dynamicpb.NewMessage(d)
	if len(kv)%2 != 0 {
		panic(contractError(fmt.Sprintf("odd field/value list for %s", d.FullName())))
	}
	for i := 0; i < len(kv); i += 2 {
		set(m, kv[i].(string), kv[i+1])
	}
	return m
}

// set assigns v to the named field: []byte, string (an enum value's name
// for an enum field), int32, int64, bool, protoreflect.EnumNumber,
// map[string]string, time.Time (a google.protobuf.Timestamp), fields or a
// *dynamicpb.Message.
func set(m *dynamicpb.Message, name string, v any) {
	fd := field(m, name)
	var val protoreflect.Value
	switch v := v.(type) {
	case string:
		if fd.Kind() == protoreflect.EnumKind {
			ev := fd.Enum().Values().ByName(protoreflect.Name(v))
			if ev == nil {
				panic(contractError(fmt.Sprintf("enum %s has no value %s", fd.Enum().FullName(), v)))
			}
			val = protoreflect.ValueOfEnum(ev.Number())
		} else {
			val = protoreflect.ValueOfString(v)
		}
	case map[string]string:
		mp := m.Mutable(fd).Map()
		for k, s := range v {
			mp.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfString(s))
		}
		return
	case time.Time:
		val = protoreflect.ValueOfMessage(build(fd.Message(), []any{"seconds", v.Unix(), "nanos", int32(v.Nanosecond())}))
	case fields:
		val = protoreflect.ValueOfMessage(build(fd.Message(), v))
	case *dynamicpb.Message:
		val = protoreflect.ValueOfMessage(v)
	default:
		val = protoreflect.ValueOf(v) // []byte, int32, int64, bool, EnumNumber
	}
	m.Set(fd, val)
}

func field(m *dynamicpb.Message, name string) protoreflect.FieldDescriptor {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		panic(contractError(fmt.Sprintf("%s has no field %s", m.Descriptor().FullName(), name)))
	}
	return fd
}

// sub is a message field, or nil when it is not set.
func sub(m *dynamicpb.Message, name string) *dynamicpb.Message {
	fd := field(m, name)
	if !m.Has(fd) {
		return nil
	}
	return m.Get(fd).Message().Interface().(*dynamicpb.Message)
}

func str(m *dynamicpb.Message, name string) string { return m.Get(field(m, name)).String() }

func strMap(m *dynamicpb.Message, name string) map[string]string {
	out := map[string]string{}
	m.Get(field(m, name)).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		out[k.String()] = v.String()
		return true
	})
	return out
}

// enumName is the name of an enum field's value, or its number when proto/
// does not define it.
func enumName(m *dynamicpb.Message, name string) string {
	fd := field(m, name)
	n := m.Get(fd).Enum()
	if ev := fd.Enum().Values().ByNumber(n); ev != nil {
		return string(ev.Name())
	}
	return fmt.Sprint(n)
}

// timestamp reads a google.protobuf.Timestamp field; ok is false when unset.
func timestamp(m *dynamicpb.Message, name string) (t time.Time, ok bool) {
	ts := sub(m, name)
	if ts == nil {
		return time.Time{}, false
	}
	secs := ts.Get(field(ts, "seconds")).Int()
	nanos := ts.Get(field(ts, "nanos")).Int()
	return time.Unix(secs, nanos), true
}
