// Errors that carry the HTTP status the E2B SDKs expect for them.
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export const notFound = (what: string) => new ApiError(404, what);
export const badRequest = (what: string) => new ApiError(400, what);
export const conflict = (what: string) => new ApiError(409, what);
