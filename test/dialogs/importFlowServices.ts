import type { Db } from 'mongodb';
import { downloadAttachment, pickUserFile } from '../../bot/attachments/attachmentDownloader';
import type { ImportFlowServices } from '../../dialogs/importDialog';
import { ImportService } from '../../services/import/importService';
import { ImportJobQueue } from '../../services/jobs/importJobQueue';
import { UploadStore } from '../../services/uploads/uploadStore';

/** The import dialog's services on a test database, as the bot wires them, with files up to 1 MB. */
export function importFlowServices(
  db: Db,
  planLater: ImportFlowServices['planLater'],
): { flow: ImportFlowServices; imports: ImportService; uploads: UploadStore; queue: ImportJobQueue } {
  const imports = new ImportService(db, { maxFileBytes: 1024 * 1024 });
  const uploads = new UploadStore(db);
  const queue = new ImportJobQueue(db);
  const flow: ImportFlowServices = {
    receiveFile: async (attachments) =>
      downloadAttachment(pickUserFile(attachments), {
        maxBytes: 1024 * 1024,
        allowedHosts: [],
        allowLoopbackHttp: false,
      }),
    saveUpload: async (accountId, source) => {
      const upload = await uploads.save(accountId, source);
      return { id: upload._id, name: upload.name, bytes: upload.bytes };
    },
    plan: async (uploadId, accountId, options) =>
      imports.plan(await uploads.source(uploadId, accountId), accountId, options),
    planLater,
    startImport: async (request) => ({ importId: (await queue.enqueue(request))._id }),
  };
  return { flow, imports, uploads, queue };
}
