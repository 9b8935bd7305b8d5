import type { Db } from 'mongodb';
import type { QuestionServices } from '../dialogs/answers/questionAnswers';
import { HistoryQueries } from '../services/history/historyQueries';
import type { ImportHistory } from '../services/history/importHistory';
import type { ImportResults } from '../services/history/importResults';
import type { ImportUndo } from '../services/import/importUndo';
import { planResend, resendInvitations } from '../services/notifications/invitationResend';
import { invitationStatus } from '../services/notifications/invitationStatus';
import { reportFileConsentCard } from './teams/reportFileConsent';

/** The history, invitation and report services the question dialog answers from, on one database. */
export function createQuestionServices(
  db: Db,
  history: ImportHistory,
  results: ImportResults,
  reportUrl: (importId: string, accountId: string) => string,
  undo: ImportUndo,
): QuestionServices {
  const queries = new HistoryQueries(db, history);
  return {
    listImports: (accountId, filter, skip, limit) => queries.listImports(accountId, filter, skip, limit),
    resolveImport: (accountId, ref) => queries.resolveImport(accountId, ref),
    findImport: (accountId, importId) => results.find(importId, accountId),
    problemRows: (record, skip, limit) => queries.problemRows(record, skip, limit),
    userHistory: (accountId, email, skip, limit) => queries.userHistory(accountId, email, limit, skip),
    importView: (record) => results.view(record),
    reportUrl: (record) => reportUrl(record._id, record.accountId),
    fixFileUrl: (record) => results.fixFileUrl(record),
    invitationStatus: (accountId, scope, page) => invitationStatus(db, accountId, scope, page),
    planResend: (accountId, scope, options) => planResend(db, accountId, scope, new Date(), options),
    resendInvitations: (accountId, scope, options) =>
      resendInvitations(db, accountId, scope, new Date(), options),
    planUndo: (accountId, importId) => undo.plan(accountId, importId),
    applyUndo: (accountId, importId, by) => undo.apply(accountId, importId, by),
    reportFileOffer: (record) => reportFileConsentCard(record),
  };
}
