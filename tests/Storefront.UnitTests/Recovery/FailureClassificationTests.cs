using System.Net;
using System.Net.Sockets;
using Npgsql;
using Polly.CircuitBreaker;
using Storefront.Api.Infrastructure;

namespace Storefront.UnitTests.Recovery;

/// <summary>Which failures end queued work, which are retried, and which make a request a 503.</summary>
public sealed class FailureClassificationTests
{
    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    public void A_service_refusing_the_request_is_permanent(HttpStatusCode status)
    {
        var refusal = new HttpRequestException("refused", null, status);

        Assert.True(DependencyFailures.IsPermanentRefusal(refusal));
        Assert.False(DependencyFailures.IsTransientFailure(refusal, CancellationToken.None));
    }

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public void A_service_that_is_busy_or_down_is_retried(HttpStatusCode status)
    {
        var failure = new HttpRequestException("down", null, status);

        Assert.False(DependencyFailures.IsPermanentRefusal(failure));
        Assert.True(DependencyFailures.IsTransientFailure(failure, CancellationToken.None));
    }

    public static TheoryData<Exception> Outages => new()
    {
        new HttpRequestException("connection refused"),
        new BrokenCircuitException(),
        new TimeoutException(),
        new NpgsqlException("connection lost", new SocketException()),
        new Azure.RequestFailedException(503, "storage down"),
        new InvalidOperationException("an unexpected bug is retried too, until the budget is spent"),
    };

    [Theory]
    [MemberData(nameof(Outages))]
    public void Outages_and_unexpected_errors_are_retried(Exception failure) =>
        Assert.True(DependencyFailures.IsTransientFailure(failure, CancellationToken.None));

    [Fact]
    public void The_host_cancelling_the_invocation_is_not_a_failure_to_retry_now()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.False(DependencyFailures.IsTransientFailure(new OperationCanceledException(cancelled.Token), cancelled.Token));
        Assert.True(DependencyFailures.IsTransientFailure(new OperationCanceledException(), CancellationToken.None));
    }

    [Fact]
    public void Only_a_database_that_cannot_answer_is_an_outage_not_a_statement_it_refuses()
    {
        Assert.True(DependencyFailures.IsDatabaseFailure(new NpgsqlException("connection lost", new SocketException()), CancellationToken.None));
        Assert.True(DependencyFailures.IsDatabaseFailure(new TimeoutException(), CancellationToken.None));
        Assert.False(DependencyFailures.IsDatabaseFailure(new NpgsqlException("invalid byte sequence"), CancellationToken.None));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown)]
    [InlineData(PostgresErrorCodes.CrashShutdown)]
    public void A_session_the_server_ended_is_a_closed_connection(string sqlState)
    {
        var ended = new PostgresException("terminating connection", "FATAL", "FATAL", sqlState);

        Assert.True(DependencyFailures.IsClosedConnection(ended));
    }

    [Fact]
    public void A_connection_that_broke_while_in_use_is_a_closed_connection() =>
        Assert.True(DependencyFailures.IsClosedConnection(new NpgsqlException("Exception while writing to stream", new IOException("Broken pipe"))));

    [Fact]
    public void A_refused_statement_or_a_server_that_is_not_there_is_not_a_closed_connection()
    {
        Assert.False(DependencyFailures.IsClosedConnection(new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation)));
        Assert.False(DependencyFailures.IsClosedConnection(new PostgresException("starting up", "FATAL", "FATAL", PostgresErrorCodes.CannotConnectNow)));
        Assert.False(DependencyFailures.IsClosedConnection(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.False(DependencyFailures.IsClosedConnection(new NpgsqlException("Exception while reading from stream", new TimeoutException())));
    }
}
