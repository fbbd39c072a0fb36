// The one place the module server names the generated gRPC contracts (from @dc/proto).
export { commonV1 as common, gatewayV1 as gateway, moduleServerV1 as moduleserver, sessionV1 as session } from '@dc/proto';
