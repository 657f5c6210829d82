// Reads one simulation per line on standard input ({principal, role, roleAccount,
// identity: [policy], boundary: policy|null, trust: policy, context: {}}) and writes
// one line per simulation: iam-simulate's overall result, or `error: ...`.
import { runSimulation } from '@cloud-copilot/iam-simulate'
import { createInterface } from 'node:readline'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  const c = JSON.parse(line)
  const sim = {
    identityPolicies: c.identity.map((policy, i) => ({ name: `identity${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: c.trust,
    request: {
      action: 'sts:AssumeRole',
      principal: c.principal,
      resource: { accountId: c.roleAccount, resource: c.role },
      contextVariables: c.context
    }
  }
  if (c.boundary) sim.permissionBoundaryPolicies = [{ name: 'boundary', policy: c.boundary }]
  try {
    const r = await runSimulation(sim, {})
    if (r.resultType === 'error') {
      console.log(`error: ${JSON.stringify(r.errors)}`)
    } else {
      console.log(r.overallResult)
    }
  } catch (e) {
    console.log(`error: ${e}`)
  }
}
