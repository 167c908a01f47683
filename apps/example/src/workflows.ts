/**
 * The example's workflows: a report pipeline as a chord (the parts are
 * fetched in parallel, then merged in section order) and an email as a chain
 * (render, then send the draft — the send step gets the rendered draft).
 */
import { type App, chain, chord } from '@taskq/core';
import { registerWorkflowTasks } from './tasks/workflows.js';

type WorkflowTasks = ReturnType<typeof registerWorkflowTasks>;

/** Build the report from its sections: `chord([fetch(s) …], merge())`. */
export async function runReportPipeline(tasks: WorkflowTasks, sections: string[]) {
  const result = await chord(
    sections.map((s) => tasks.fetchPart.s(s)),
    tasks.mergeReport.s(),
  ).applyAsync();
  return result.get({ timeout: 30_000 });
}

/** Render and send an email: `chain(render(to, template), sendDraft())`. */
export async function runEmailChain(tasks: WorkflowTasks, to: string, template: string) {
  const result = await chain(tasks.renderEmail.s(to, template), tasks.sendDraft.s()).applyAsync();
  return result.get({ timeout: 30_000 });
}

/** Run both workflows; registers the workflow tasks on `app` unless they are given. */
export async function runWorkflows(app: App, tasks: WorkflowTasks = registerWorkflowTasks(app)) {
  const report = await runReportPipeline(tasks, ['sales', 'costs', 'forecast']);
  const email = await runEmailChain(tasks, 'ada@example.test', 'monthly report');
  return { report, email };
}
