using Bulwark.Jobs;
using Bulwark.Storage;
using Xunit;

namespace Bulwark.StoreContract;

public abstract partial class JobStoreContractTests
{
    private static readonly string[] ModelQueues = ["a", "b"];

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    [InlineData(1001)]
    [InlineData(31337)]
    public async Task Random_steps_agree_with_a_reference_model(int seed)
    {
        var random = new Random(seed);
        var model = new Dictionary<long, ModelJob>();
        var tokens = new List<LeaseToken>();
        var reachable = Reachability();
        var step = TimeSpan.FromSeconds(3); // Leases last 10 s, so no lease ever expires exactly on a step.

        for (var i = 0; i < 300; i++)
        {
            var now = Now;
            var roll = random.Next(100);
            var context = $"seed {seed}, step {i}";
            if (roll < 28)
            {
                var delay = TimeSpan.FromSeconds(3 * random.Next(0, 4) * random.Next(0, 2));
                var job = TestJobs.New(ModelQueues[random.Next(2)], priority: random.Next(3), maxAttempts: random.Next(1, 4), runAt: delay > TimeSpan.Zero ? now + delay : null);
                var id = await EnqueueAsync(job);
                Assert.True(model.Keys.All(k => k < id), context);
                var initial = delay > TimeSpan.Zero ? JobState.Scheduled : JobState.Ready;
                model[id] = new ModelJob(job.Queue, job.Priority, job.MaxAttempts) { State = initial, Observed = initial, RunAt = now + delay };
            }
            else if (roll < 48)
            {
                var queues = random.Next(2) == 0 ? ModelQueues : ModelQueues.Reverse().ToArray();
                var max = random.Next(1, 4);
                var expected = model
                    .Where(kv => kv.Value.State == JobState.Ready || (kv.Value.State == JobState.Scheduled && kv.Value.RunAt <= now))
                    .OrderBy(kv => Array.IndexOf(queues, kv.Value.Queue))
                    .ThenByDescending(kv => kv.Value.Priority)
                    .ThenBy(kv => kv.Value.RunAt)
                    .ThenBy(kv => kv.Key)
                    .Take(max)
                    .Select(kv => kv.Key)
                    .ToList();
                var leased = await Store.LeaseAsync(new LeaseRequest("w1", queues, max, LeaseLength));
                Assert.True(expected.SequenceEqual(leased.Select(l => l.Id)), $"{context}: expected lease of [{string.Join(",", expected)}], got [{string.Join(",", leased.Select(l => l.Id))}]");
                foreach (var l in leased)
                {
                    var m = model[l.Id];
                    Assert.True(l.Token.Epoch > m.Epoch, context);
                    m.State = JobState.Running;
                    m.Attempt++;
                    m.Epoch = l.Token.Epoch;
                    m.LeaseExpiresAt = now + LeaseLength;
                    Assert.Equal(m.Attempt, l.Attempt);
                    Assert.Equal(m.LostLeases, l.LostLeases);
                    tokens.Add(l.Token);
                }
            }
            else if (roll < 70 && tokens.Count > 0)
            {
                var token = tokens[random.Next(tokens.Count)];
                var kind = (OutcomeKind)random.Next(5); // Complete, Retry, Fail, DeadLetter, Release
                var m = model[token.JobId];
                var expected = m.State != JobState.Running ? FenceResult.NotRunning : m.Epoch != token.Epoch ? FenceResult.LeaseLost : FenceResult.Ok;
                var retryDelay = TimeSpan.FromSeconds(3 * random.Next(0, 3));
                var outcome = kind == OutcomeKind.Retry ? JobOutcome.Retry(token, TestJobs.Error(m.Attempt, now), retryDelay) : OutcomeOf(kind, token);

                Assert.True(expected == await FinishAsync(outcome), $"{context}: {kind} of {token} should be {expected}");
                if (expected == FenceResult.Ok)
                {
                    (m.State, m.RunAt, m.Attempt) = kind switch
                    {
                        OutcomeKind.Complete => (JobState.Completed, m.RunAt, m.Attempt),
                        OutcomeKind.Retry => (JobState.Scheduled, now + retryDelay, m.Attempt),
                        OutcomeKind.Fail => (JobState.Failed, m.RunAt, m.Attempt),
                        OutcomeKind.DeadLetter => (JobState.DeadLetter, m.RunAt, m.Attempt),
                        _ => (JobState.Ready, m.RunAt, m.Attempt - 1),
                    };
                }
            }
            else if (roll < 80)
            {
                var expired = model.Where(kv => kv.Value.State == JobState.Running && kv.Value.LeaseExpiresAt < now).ToList();
                var result = await Store.ReclaimAsync(TimeSpan.FromHours(1));
                // Every lease is w1's: a job lost on its last attempt at its first crash beside another running job gets the attempt back.
                var inCompany = model.Values.Count(m => m.State == JobState.Running) > 1;
                bool Refunded(ModelJob m) => m.Attempt >= m.MaxAttempts && m.LostLeases == 0 && inCompany;
                bool Poison(ModelJob m) => m.Attempt >= m.MaxAttempts && !Refunded(m);
                var poisoned = expired.Where(kv => Poison(kv.Value)).Select(kv => kv.Key).Order().ToList();
                var reclaimed = expired.Where(kv => !Poison(kv.Value)).Select(kv => kv.Key).Order().ToList();
                Assert.Equal(poisoned, result.Poisoned.Order().ToList());
                Assert.Equal(reclaimed, result.Reclaimed.Order().ToList());
                foreach (var (_, m) in expired)
                {
                    (m.State, m.Attempt) = Poison(m) ? (JobState.DeadLetter, m.Attempt) : (JobState.Ready, Refunded(m) ? m.Attempt - 1 : m.Attempt);
                    m.LostLeases++;
                }
            }
            else if (roll < 95)
            {
                Time.Advance(step);
            }
            else
            {
                var due = model.Values.Where(m => m.State == JobState.Scheduled && m.RunAt <= now).ToList();
                Assert.Equal(due.Count, await Store.PromoteDueAsync());
                due.ForEach(m => m.State = JobState.Ready);
            }

            foreach (var (id, m) in model)
            {
                var actual = await GetAsync(id);
                Assert.True(m.State == actual.State, $"{context}: job {id} is {actual.State}, the model says {m.State}");
                Assert.True(m.Attempt == actual.Attempt, $"{context}: job {id} has attempt {actual.Attempt}, the model says {m.Attempt}");
                Assert.True(m.LostLeases == actual.LostLeases, $"{context}: job {id} lost {actual.LostLeases} leases, the model says {m.LostLeases}");
                Assert.True(actual.State == m.Observed || reachable.Contains((m.Observed, actual.State)), $"{context}: job {id} went from {m.Observed} to {actual.State}, which no path of the transition table allows");
                m.Observed = actual.State;
            }
        }
    }

    /// <summary>Every (from, to) pair connected by a path of one or more edges of the table.</summary>
    private static HashSet<(JobState, JobState)> Reachability()
    {
        var pairs = JobTransitions.All.Select(t => (t.From, t.To)).ToHashSet();
        bool grew;
        do
        {
            var next = pairs.SelectMany(a => pairs.Where(b => b.From == a.To).Select(b => (a.From, b.To))).ToList();
            grew = false;
            foreach (var pair in next)
            {
                grew |= pairs.Add(pair);
            }
        }
        while (grew);

        return pairs;
    }

    private sealed class ModelJob(string queue, int priority, int maxAttempts)
    {
        public string Queue { get; } = queue;
        public int Priority { get; } = priority;
        public int MaxAttempts { get; } = maxAttempts;
        public JobState State { get; set; }
        public JobState Observed { get; set; }
        public DateTimeOffset RunAt { get; set; }
        public int Attempt { get; set; }
        public int LostLeases { get; set; }
        public long Epoch { get; set; }
        public DateTimeOffset LeaseExpiresAt { get; set; }
    }
}
