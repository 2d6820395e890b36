/**
 * Fetch wrappers for the project's AWS clients (lib/store/aws-http.ts takes a `fetch`): they
 * record which AWS operation each request was, for tests and the bench that count calls, and
 * let tests answer some requests themselves to inject failures no local server produces.
 */

/**
 * The AWS operation a signed request stands for: DynamoDB/SQS by `X-Amz-Target`
 * (`DynamoDB_20120810.Query` → `Query`), S3 by method and query (`PutObject`, `UploadPart`, …).
 */
export function awsOperation(request: Request): string {
  const target = request.headers.get('x-amz-target');
  if (target) return target.slice(target.indexOf('.') + 1);
  const query = new URL(request.url).searchParams;
  const objectPath = new URL(request.url).pathname.split('/').filter(Boolean).length > 1;
  switch (request.method) {
    case 'GET': return query.has('list-type') ? 'ListObjectsV2' : 'GetObject';
    case 'HEAD': return objectPath ? 'HeadObject' : 'HeadBucket';
    case 'PUT': return query.has('partNumber') ? 'UploadPart' : objectPath ? 'PutObject' : 'CreateBucket';
    case 'POST': return query.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload';
    case 'DELETE': return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    default: return request.method;
  }
}

/**
 * The request a fetch was called with, without consuming its body (the clients call fetch with
 * one signed Request; building a new Request from it would take its body away).
 */
export function requestOf(input: string | URL | Request, init?: RequestInit): Request {
  return input instanceof Request && init === undefined ? input : new Request(input, init);
}

/** A fetch that appends each request's operation name to `log`, then sends it with `next` (default Node's fetch). */
export function recordingFetch(log: string[], next: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    log.push(awsOperation(requestOf(input, init)));
    return next(input, init);
  };
}

/** An AWS JSON error answer (`__type`, `message`), as DynamoDB and SQS send them. */
export function awsJsonError(status: number, type: string, message: string): Response {
  return new Response(JSON.stringify({ __type: type, message }), { status, headers: { 'content-type': 'application/x-amz-json-1.0' } });
}

/** An S3 XML error answer (`<Code>`, `<Message>`). */
export function s3XmlError(status: number, code: string, message: string): Response {
  return new Response(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`, {
    status, headers: { 'content-type': 'application/xml' },
  });
}
