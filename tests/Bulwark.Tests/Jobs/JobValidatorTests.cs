using Bulwark.Jobs;

namespace Bulwark.Tests.Jobs;

public sealed class JobValidatorTests
{
    private static NewJob Valid() => new() { Queue = "default", Type = "email.send", Payload = """{"to":"a@b.c"}""" };

    private static JobValidationException Refused(NewJob job, int maxPayloadBytes = JobDefaults.MaxPayloadBytes) =>
        Assert.Throws<JobValidationException>(() => JobValidator.Validate(job, maxPayloadBytes));

    [Fact]
    public void A_valid_job_passes_unchanged()
    {
        var job = Valid();

        Assert.Same(job, JobValidator.Validate(job));
    }

    [Theory]
    [InlineData("order-\u0000-42")]
    [InlineData("line\nbreak")]
    [InlineData("\u0007bell")]
    public void An_idempotency_key_with_a_control_character_is_refused(string key)
    {
        var ex = Refused(Valid() with { Key = key });

        Assert.Equal("key", ex.Field);
        Assert.Contains("control characters", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trace_parent_with_a_NUL_character_is_refused()
    {
        var ex = Refused(Valid() with { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\u0000" });

        Assert.Equal("trace_parent", ex.Field);
        Assert.Contains("control characters", ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("a")]
    [InlineData("9lives")]
    [InlineData("email.high_priority:v2-x")]
    public void Good_queue_names_are_accepted(string queue)
    {
        Assert.Equal(queue, JobValidator.ValidateQueue(queue));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_missing_queue_is_refused(string? queue)
    {
        var ex = Refused(Valid() with { Queue = queue! });

        Assert.Equal("queue", ex.Field);
        Assert.Contains("missing", ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Email")]
    [InlineData("EMAIL")]
    [InlineData(".hidden")]
    [InlineData("-dash")]
    [InlineData("has space")]
    [InlineData("slash/queue")]
    [InlineData("ünicode")]
    public void A_malformed_queue_name_is_refused_with_the_pattern(string queue)
    {
        var ex = Refused(Valid() with { Queue = queue });

        Assert.Equal("queue", ex.Field);
        Assert.Equal(JobValidationKind.Invalid, ex.Kind);
        Assert.Contains(JobValidator.QueuePattern, ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_queue_name_of_64_characters_passes_and_65_is_refused()
    {
        JobValidator.ValidateQueue(new string('q', 64));

        var ex = Refused(Valid() with { Queue = new string('q', 65) });

        Assert.Contains("1–64", ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".leading")]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    public void A_missing_or_malformed_type_is_refused(string? type)
    {
        Assert.Equal("type", Refused(Valid() with { Type = type! }).Field);
    }

    [Fact]
    public void A_type_longer_than_the_limit_is_refused()
    {
        JobValidator.ValidateType(new string('t', JobValidator.MaxTypeLength));

        Assert.Equal("type", Refused(Valid() with { Type = new string('t', JobValidator.MaxTypeLength + 1) }).Field);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{'single':1}")]
    [InlineData("not json")]
    [InlineData("{} {}")]
    [InlineData("")]
    public void Invalid_json_is_refused(string payload)
    {
        var ex = Refused(Valid() with { Payload = payload });

        Assert.Equal("payload", ex.Field);
        Assert.Equal(JobValidationKind.Invalid, ex.Kind);
        Assert.Contains("not valid JSON", ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("42")]
    [InlineData("\"text\"")]
    [InlineData("[1,2,3]")]
    public void Any_single_json_value_is_a_payload(string payload)
    {
        JobValidator.Validate(Valid() with { Payload = payload });
    }

    [Fact]
    public void A_payload_exactly_at_the_limit_passes_and_one_byte_over_is_too_large()
    {
        const int Limit = 100;
        var atLimit = "\"" + new string('x', Limit - 2) + "\"";
        JobValidator.Validate(Valid() with { Payload = atLimit }, Limit);

        var ex = Refused(Valid() with { Payload = "\"" + new string('x', Limit - 1) + "\"" }, Limit);

        Assert.Equal(JobValidationKind.TooLarge, ex.Kind);
        Assert.Equal("payload", ex.Field);
        Assert.Contains("over the limit", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_payload_limit_counts_utf8_bytes_not_characters()
    {
        // "é" is two bytes in UTF-8: 50 of them plus the quotes are 102 bytes, over a 100-byte limit.
        var ex = Refused(Valid() with { Payload = "\"" + new string('é', 50) + "\"" }, 100);

        Assert.Equal(JobValidationKind.TooLarge, ex.Kind);
    }

    [Fact]
    public void The_default_limit_is_one_mebibyte()
    {
        var ex = Refused(Valid() with { Payload = "\"" + new string('x', JobDefaults.MaxPayloadBytes) + "\"" });

        Assert.Equal(JobValidationKind.TooLarge, ex.Kind);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1001)]
    public void Max_attempts_out_of_range_is_refused(int maxAttempts)
    {
        var ex = Refused(Valid() with { MaxAttempts = maxAttempts });

        Assert.Equal("max_attempts", ex.Field);
        Assert.Contains(maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    public void Max_attempts_at_the_bounds_passes(int maxAttempts)
    {
        JobValidator.Validate(Valid() with { MaxAttempts = maxAttempts });
    }

    [Fact]
    public void A_zero_negative_or_over_limit_timeout_is_refused()
    {
        Assert.Equal("timeout", Refused(Valid() with { Timeout = TimeSpan.Zero }).Field);
        Assert.Contains("negative", Refused(Valid() with { Timeout = TimeSpan.FromSeconds(-5) }).Reason, StringComparison.Ordinal);
        Assert.Equal("timeout", Refused(Valid() with { Timeout = JobValidator.MaxTimeout + TimeSpan.FromSeconds(1) }).Field);
        JobValidator.Validate(Valid() with { Timeout = JobValidator.MaxTimeout });
    }

    [Fact]
    public void An_empty_or_too_long_key_is_refused()
    {
        Assert.Equal("key", Refused(Valid() with { Key = "" }).Field);
        Assert.Equal("key", Refused(Valid() with { Key = new string('k', JobValidator.MaxKeyLength + 1) }).Field);
        JobValidator.Validate(Valid() with { Key = new string('k', JobValidator.MaxKeyLength) });
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-3L)]
    public void A_nonpositive_dependency_id_is_refused(long id)
    {
        var ex = Refused(Valid() with { DependsOn = [5, id] });

        Assert.Equal("depends_on", ex.Field);
    }

    [Fact]
    public void A_batch_index_must_point_to_an_earlier_entry()
    {
        var first = Valid();
        var forward = Valid() with { DependsOnBatchIndexes = [1] };
        var self = Valid() with { DependsOnBatchIndexes = [1] };
        var negative = Valid() with { DependsOnBatchIndexes = [-1] };

        Assert.Throws<JobValidationException>(() => JobValidator.ValidateBatch([first, Valid() with { DependsOnBatchIndexes = [2] }, Valid()]));
        Assert.Throws<JobValidationException>(() => JobValidator.ValidateBatch([first, self]));
        Assert.Throws<JobValidationException>(() => JobValidator.ValidateBatch([first, negative]));
        Assert.Throws<JobValidationException>(() => JobValidator.ValidateBatch([forward]));
        JobValidator.ValidateBatch([first, Valid() with { DependsOnBatchIndexes = [0] }]);
    }

    [Fact]
    public void Expires_at_must_come_after_run_at()
    {
        var runAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.Equal("expires_at", Refused(Valid() with { RunAt = runAt, ExpiresAt = runAt }).Field);
        Assert.Equal("expires_at", Refused(Valid() with { RunAt = runAt, ExpiresAt = runAt.AddSeconds(-1) }).Field);
        JobValidator.Validate(Valid() with { RunAt = runAt, ExpiresAt = runAt.AddSeconds(1) });
    }

    [Fact]
    public void An_invalid_backoff_is_refused()
    {
        var ex = Refused(Valid() with { Backoff = new FixedBackoff(TimeSpan.FromSeconds(-1)) });

        Assert.Equal("backoff", ex.Field);
    }

    [Fact]
    public void An_empty_batch_is_refused()
    {
        var ex = Assert.Throws<JobValidationException>(() => JobValidator.ValidateBatch([]));

        Assert.Contains("empty", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_refusal_names_the_index_of_the_bad_job()
    {
        var ex = Assert.Throws<JobValidationException>(() => JobValidator.ValidateBatch([Valid(), Valid(), Valid() with { Queue = "Bad" }]));

        Assert.StartsWith("Job 2 of the batch:", ex.Reason, StringComparison.Ordinal);
        Assert.Equal("queue", ex.Field);
    }

    [Fact]
    public void A_batch_refusal_keeps_the_too_large_kind()
    {
        var ex = Assert.Throws<JobValidationException>(() => JobValidator.ValidateBatch([Valid(), Valid() with { Payload = "\"" + new string('x', 200) + "\"" }], 100));

        Assert.Equal(JobValidationKind.TooLarge, ex.Kind);
        Assert.Contains("Job 1", ex.Reason, StringComparison.Ordinal);
    }
}
