import { z } from 'zod';

/** As the Collector contrib's bearertokenauth extension: a token, or a file holding it. */
export const bearerTokenAuthSchema = z
  .strictObject({
    /** The scheme expected in `Authorization: <scheme> <token>`. */
    scheme: z.string().min(1).default('Bearer'),
    token: z.string().min(1).optional(),
    /** A file holding the token (re-read when it changes, for rotated secrets). */
    filename: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.token === undefined) === (c.filename === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of token and filename' });
    }
  });

export type BearerTokenAuthConfig = z.output<typeof bearerTokenAuthSchema>;
