using Bulwark.Flows;
using Bulwark.Jobs;
using Xunit;

namespace Bulwark.Tests.Flows;

public sealed class FlowBuilderTests
{
    private static FlowBuilder Node(FlowBuilder flow, string name, params string[] dependsOn) => flow.AddJson(name, "docs", "t", "{}", dependsOn: dependsOn);

    [Fact]
    public void Nodes_are_ordered_after_their_parents_whatever_order_they_were_added_in()
    {
        var flow = new FlowBuilder();
        Node(flow, "embed", "ocr");
        Node(flow, "ocr", "extract");
        Node(flow, "extract");
        Node(flow, "thumb", "extract");

        Assert.Equal(["extract", "ocr", "embed", "thumb"], flow.TopologicalOrder());
    }

    [Fact]
    public void A_three_node_cycle_is_spelled_out_in_edge_order()
    {
        var flow = new FlowBuilder();
        Node(flow, "start");
        Node(flow, "a", "c", "start");
        Node(flow, "b", "a");
        Node(flow, "c", "b");

        var error = Assert.Throws<JobValidationException>(() => flow.TopologicalOrder());

        Assert.Equal("depends_on", error.Field);
        Assert.Contains("a → c → b → a", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_depending_on_itself_is_refused_when_added()
    {
        var error = Assert.Throws<JobValidationException>(() => Node(new FlowBuilder(), "a", "a"));

        Assert.Equal("depends_on", error.Field);
        Assert.Contains("a → a", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_node_name_is_refused_naming_the_nodes_there_are()
    {
        var flow = new FlowBuilder();
        Node(flow, "extract");
        Node(flow, "ocr", "extrakt");

        var error = Assert.Throws<JobValidationException>(() => flow.TopologicalOrder());

        Assert.Equal("depends_on", error.Field);
        Assert.Contains("'extrakt'", error.Reason, StringComparison.Ordinal);
        Assert.Contains("extract, ocr", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("-dash-first")]
    public void A_bad_node_name_is_refused(string name)
    {
        var error = Assert.Throws<JobValidationException>(() => Node(new FlowBuilder(), name));

        Assert.Equal("name", error.Field);
    }

    [Fact]
    public void A_duplicate_node_name_and_an_empty_flow_are_refused()
    {
        var flow = new FlowBuilder();
        Node(flow, "a");

        Assert.Equal("name", Assert.Throws<JobValidationException>(() => Node(flow, "a")).Field);
        Assert.Equal("flow", Assert.Throws<JobValidationException>(() => new FlowBuilder().TopologicalOrder()).Field);
    }
}
