import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import busboy from 'busboy';
import { DirectLineHttpError } from './directLineHttp';
import { FileTooLargeError } from './directLineFiles';

/** Limits of one upload request. */
export interface UploadLimits {
  /** Largest file, in bytes. */
  maxFileBytes: number;
  /** Most `file` parts in one request. */
  maxFiles: number;
  /** Largest `activity` part, in bytes. */
  maxActivityBytes: number;
}

/** What the client said about one file part: both are its own words, to be treated as display text only. */
export interface FilePartInfo {
  filename: string;
  mimeType: string;
}

/** A parsed upload: the activity part's text and what `saveFile` returned for each file, in order. */
export interface ParsedUpload<T> {
  activityJson: string;
  files: T[];
}

export const ACTIVITY_PART = 'activity';
export const FILE_PART = 'file';

const activityTooLarge = () =>
  new DirectLineHttpError(413, 'ActivityTooLarge', 'The activity part of the upload is too large.');

const tooLarge = (maxFileBytes: number) =>
  new DirectLineHttpError(
    413,
    'FileTooLarge',
    `A file is larger than the ${maxFileBytes}-byte limit for uploads. Send a smaller file.`,
  );

/**
 * Reads a Direct Line upload (`multipart/form-data` with one `activity` part and one `file` part per
 * attachment) from the request stream with busboy. Each file part is handed to `saveFile` while it streams,
 * so no file is ever held whole in memory or written to disk; the size limit stops a file as soon as it is
 * crossed. If anything fails, the files already saved are handed to `discard`, the rest of the request is
 * read and dropped (so the client gets the answer instead of a reset connection), and the promise rejects
 * with a {@link DirectLineHttpError}.
 */
export function readUpload<T>(
  req: IncomingMessage,
  limits: UploadLimits,
  saveFile: (content: AsyncIterable<Buffer>, info: FilePartInfo) => Promise<T>,
  discard: (saved: T[]) => Promise<void>,
): Promise<ParsedUpload<T>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          // The activity part is usually sent as a Blob, so busboy sees it as a file too.
          files: limits.maxFiles + 1,
          fileSize: Math.max(limits.maxFileBytes, limits.maxActivityBytes) + 1,
          fields: 4,
          fieldSize: limits.maxActivityBytes,
          parts: limits.maxFiles + 5,
          headerPairs: 20,
        },
      });
    } catch {
      req.resume();
      reject(new DirectLineHttpError(400, 'BadArgument', 'The upload must be multipart/form-data.'));
      return;
    }

    const saves: Array<Promise<T>> = [];
    let activity: Promise<string> | undefined;
    let failure: DirectLineHttpError | undefined;
    let finished = false;
    const fail = (err: DirectLineHttpError) => {
      failure ??= err;
    };

    const finish = async () => {
      if (finished) return;
      finished = true;
      const activityJson = await activity?.catch(() => {
        fail(activityTooLarge());
        return undefined;
      });
      const settled = await Promise.allSettled(saves);
      const saved = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (rejected) fail(asHttpError(rejected.reason, limits.maxFileBytes));
      if (activityJson === undefined) {
        fail(new DirectLineHttpError(400, 'BadArgument', 'The upload has no "activity" part.'));
      }
      if (failure || activityJson === undefined) {
        await discard(saved).catch(() => undefined);
        reject(failure);
      } else {
        resolve({ activityJson, files: saved });
      }
    };

    parser.on('file', (name, stream, info) => {
      if (failure || (name !== ACTIVITY_PART && name !== FILE_PART)) {
        stream.resume();
        return;
      }
      if (name === ACTIVITY_PART) {
        activity = collectText(stream, limits.maxActivityBytes);
        // Handled in finish(); this only keeps an early rejection from being reported as unhandled.
        activity.catch(() => undefined);
        return;
      }
      // The store reads from a pass-through, so that if it stops early only the pass-through is destroyed:
      // busboy's own stream must be read to the end or it stops parsing the rest of the request.
      const content = new PassThrough();
      stream.on('limit', () => content.destroy(new FileTooLargeError(limits.maxFileBytes)));
      stream.pipe(content);
      const save = saveFile(content, { filename: info.filename ?? '', mimeType: info.mimeType ?? '' });
      save.catch(() => {
        stream.unpipe(content);
        stream.resume();
      });
      saves.push(save);
    });

    parser.on('field', (name, value, info) => {
      if (name !== ACTIVITY_PART) return;
      activity = info.valueTruncated ? Promise.reject(new Error('too large')) : Promise.resolve(value);
      // Handled in finish(); this only keeps an early rejection from being reported as unhandled.
      activity.catch(() => undefined);
    });
    const tooMany = () =>
      fail(
        new DirectLineHttpError(
          413,
          'TooManyFiles',
          `An upload may carry at most ${limits.maxFiles} files. Send fewer files at once.`,
        ),
      );
    parser.on('filesLimit', tooMany);
    parser.on('partsLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', () => {
      fail(new DirectLineHttpError(400, 'BadArgument', 'The upload is not a well-formed multipart body.'));
      req.unpipe(parser);
      // Drop the rest of the body so the answer reaches the client on an intact connection.
      req.resume();
      void finish();
    });
    parser.on('close', () => void finish());
    req.on('aborted', () => {
      fail(new DirectLineHttpError(400, 'BadArgument', 'The upload was interrupted.'));
      void finish();
    });
    req.pipe(parser);
  });
}

/** What the client is told about a file that could not be stored. */
function asHttpError(err: unknown, maxFileBytes: number): DirectLineHttpError {
  if (err instanceof DirectLineHttpError) return err;
  if (err instanceof FileTooLargeError) return tooLarge(maxFileBytes);
  const failure = new DirectLineHttpError(500, 'ServiceError', 'The file could not be stored. Try again.');
  failure.cause = err;
  return failure;
}

/** Reads a small part into text, refusing more than `maxBytes`; the rest of the part is drained. */
function collectText(stream: NodeJS.ReadableStream, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    let bytes = 0;
    let over = false;
    stream.on('data', (piece: Buffer) => {
      bytes += piece.length;
      if (bytes > maxBytes) over = true;
      if (!over) pieces.push(piece);
    });
    stream.on('end', () =>
      over ? reject(new Error('too large')) : resolve(Buffer.concat(pieces).toString('utf8')),
    );
    stream.on('error', reject);
  });
}
